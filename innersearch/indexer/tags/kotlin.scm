; Kotlin definitions and references (innersearch tags convention, see parse.py).
; The grammar has one class_declaration for classes, interfaces and enum classes, and
; few fields, so the keyword child tells them apart (earlier patterns win in parse.py).

(class_declaration
  (type_identifier) @name
  (enum_class_body)) @definition.enum

(class_declaration
  "interface"
  (type_identifier) @name) @definition.interface

(class_declaration
  (type_identifier) @name) @definition.class

(object_declaration
  (type_identifier) @name) @definition.class

(companion_object
  (type_identifier) @name) @definition.class

(function_declaration
  (simple_identifier) @name) @definition.function

(type_alias
  (type_identifier) @name) @definition.type

(property_declaration
  (modifiers (property_modifier) @_const)
  (variable_declaration (simple_identifier) @name)
  (#eq? @_const "const")) @definition.constant

(call_expression
  [
    (simple_identifier) @name
    (navigation_expression
      (navigation_suffix (simple_identifier) @name))
  ]) @reference.call

(delegation_specifier
  [
    (user_type (type_identifier) @name)
    (constructor_invocation (user_type (type_identifier) @name))
  ] @reference.class)
