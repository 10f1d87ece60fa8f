; inherits: c
; C++ definitions and references (innersearch tags convention, see parse.py): what C++
; adds to c.scm. Out-of-class definitions (`void Shape::draw()`) take the qualifier as
; their container.

(function_definition
  declarator: [
    (function_declarator declarator: [(field_identifier) (operator_name) (destructor_name)] @name)
    (pointer_declarator declarator: (function_declarator
      declarator: [(field_identifier) (operator_name)] @name))
    (reference_declarator (function_declarator
      declarator: [(identifier) (field_identifier) (operator_name)] @name))
  ]) @definition.function

(function_definition
  declarator: [
    (function_declarator declarator: (qualified_identifier
      scope: (_) @container
      name: [(identifier) (operator_name) (destructor_name) (template_function)] @name))
    (pointer_declarator declarator: (function_declarator declarator: (qualified_identifier
      scope: (_) @container
      name: [(identifier) (operator_name) (template_function)] @name)))
    (reference_declarator (function_declarator declarator: (qualified_identifier
      scope: (_) @container
      name: [(identifier) (operator_name) (template_function)] @name)))
    (function_declarator declarator: (qualified_identifier
      name: (qualified_identifier
        scope: (_) @container
        name: [(identifier) (operator_name) (destructor_name)] @name)))
  ]) @definition.function

; Member function declarations inside a class body (the definition may live elsewhere).
(field_declaration
  declarator: [
    (function_declarator declarator: [(field_identifier) (operator_name)] @name)
    (pointer_declarator declarator: (function_declarator declarator: (field_identifier) @name))
    (reference_declarator (function_declarator declarator: (field_identifier) @name))
  ]) @definition.method

(declaration
  declarator: (function_declarator declarator: (destructor_name) @name)) @definition.method

(class_specifier
  name: [(type_identifier) (template_type name: (type_identifier))] @name
  body: (field_declaration_list)) @definition.class

(struct_specifier
  name: (template_type name: (type_identifier)) @name
  body: (field_declaration_list)) @definition.struct

(namespace_definition
  name: [(namespace_identifier) (nested_namespace_specifier)] @name) @definition.module

(alias_declaration
  name: (type_identifier) @name) @definition.type

(concept_definition
  name: (identifier) @name) @definition.type

(call_expression
  function: [
    (qualified_identifier name: (identifier) @name)
    (template_function name: (identifier) @name)
    (field_expression field: (template_method name: (field_identifier) @name))
  ]) @reference.call

(new_expression
  type: [
    (type_identifier) @name
    (qualified_identifier name: (type_identifier) @name)
    (template_type name: (type_identifier) @name)
  ]) @reference.class

(base_class_clause
  [
    (type_identifier) @name
    (qualified_identifier name: (type_identifier) @name)
    (template_type name: (type_identifier) @name)
  ] @reference.class)
