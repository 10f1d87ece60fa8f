; PHP definitions and references (innersearch tags convention, see parse.py).

(class_declaration
  name: (name) @name) @definition.class

(interface_declaration
  name: (name) @name) @definition.interface

(trait_declaration
  name: (name) @name) @definition.interface

(enum_declaration
  name: (name) @name) @definition.enum

(function_definition
  name: (name) @name) @definition.function

(method_declaration
  name: (name) @name) @definition.method

(namespace_definition
  name: (namespace_name) @name) @definition.module

(const_declaration
  (const_element
    (name) @name) @definition.constant)

(property_declaration
  (property_element
    name: (variable_name (name) @name)) @definition.field)

(function_call_expression
  function: [
    (name) @name
    (qualified_name (name) @name .)
  ]) @reference.call

(member_call_expression
  name: (name) @name) @reference.call

(nullsafe_member_call_expression
  name: (name) @name) @reference.call

(scoped_call_expression
  name: (name) @name) @reference.call

(object_creation_expression
  [
    (name) @name
    (qualified_name (name) @name .)
  ]) @reference.class

(base_clause
  [
    (name) @name
    (qualified_name (name) @name .)
  ] @reference.class)

(class_interface_clause
  [
    (name) @name
    (qualified_name (name) @name .)
  ] @reference.interface)
