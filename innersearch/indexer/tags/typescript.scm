; inherits: javascript
; TypeScript additions on top of javascript.scm (innersearch tags convention, see parse.py).

(abstract_class_declaration
  name: (type_identifier) @name) @definition.class

(interface_declaration
  name: (type_identifier) @name) @definition.interface

(type_alias_declaration
  name: (type_identifier) @name) @definition.type

(enum_declaration
  name: (identifier) @name) @definition.enum

(internal_module
  name: [(identifier) (nested_identifier)] @name) @definition.module

(module
  name: [(identifier) (nested_identifier) (string)] @name) @definition.module

(function_signature
  name: (identifier) @name) @definition.function

(method_signature
  name: [(property_identifier) (private_property_identifier)] @name) @definition.method

(abstract_method_signature
  name: [(property_identifier) (private_property_identifier)] @name) @definition.method

(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name
  value: [(function_expression) (generator_function) (arrow_function)]) @definition.method

(extends_clause
  value: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ] @reference.class)

(implements_clause
  [
    (type_identifier) @name
    (generic_type name: (type_identifier) @name)
  ] @reference.class)

(type_annotation
  [
    (type_identifier) @name
    (generic_type name: (type_identifier) @name)
  ] @reference.type)
