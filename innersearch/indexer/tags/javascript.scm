; JavaScript definitions and references (innersearch tags convention, see parse.py).
; Also the base of typescript.scm: patterns after the "not inherited" line use node types
; that only the JavaScript grammar has.

(class_declaration
  name: (_) @name) @definition.class

(class
  name: (_) @name) @definition.class

(method_definition
  name: [
    (property_identifier)
    (private_property_identifier)
    (string)
    (number)
    (computed_property_name)
  ] @name) @definition.method

(function_declaration
  name: (identifier) @name) @definition.function

(generator_function_declaration
  name: (identifier) @name) @definition.function

; `const f = function () {}` / `() => {}` / `class {}`: the variable names the value
; (a named class expression names itself, see `class` above).
(variable_declarator
  name: (identifier) @name
  value: [(function_expression) (generator_function) (arrow_function)]) @definition.function

(variable_declarator
  name: (identifier) @name
  value: (class !name)) @definition.class

; A named function expression defines its own name too: `const f = function g() {}`,
; `.catch(function onError(err) {})` (ctags reports these as well).
(function_expression
  name: (identifier) @name) @definition.function

; `Foo.prototype.bar = function () {}`: a method of Foo.
(assignment_expression
  left: (member_expression
    object: (member_expression
      object: (identifier) @container
      property: (property_identifier) @_proto)
    property: (property_identifier) @name)
  right: [(function_expression) (generator_function) (arrow_function)]
  (#eq? @_proto "prototype")) @definition.method

; `Foo.prototype.bar = baz` aliases a method.
(assignment_expression
  left: (member_expression
    object: (member_expression
      object: (identifier) @container
      property: (property_identifier) @_proto)
    property: (property_identifier) @name)
  right: [(identifier) (member_expression)]
  (#eq? @_proto "prototype")) @definition.method

; `exports.foo = ...`, `module.exports.foo = ...`, `a.b.foo = function`, `foo = function`.
(assignment_expression
  left: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]
  right: [(function_expression) (generator_function) (arrow_function)]) @definition.function

(assignment_expression
  left: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]
  right: (class !name)) @definition.class

; Object literals used as namespaces: `const api = { get() {}, put: function () {} }`.
(pair
  key: [(property_identifier) (string) (number)] @name
  value: [(function_expression) (generator_function) (arrow_function)]) @definition.method

(variable_declarator
  name: (identifier) @name
  value: (object)) @scope.object

(assignment_expression
  left: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]
  right: (object)) @scope.object

(pair
  key: [(property_identifier) (string)] @name
  value: (object)) @scope.object

; Other top-level bindings, after the patterns above so that functions and classes win.
(program
  [
    (lexical_declaration
      kind: "const"
      (variable_declarator name: (identifier) @name) @definition.constant)
    (export_statement
      (lexical_declaration
        kind: "const"
        (variable_declarator name: (identifier) @name) @definition.constant))
  ])

(program
  [
    (lexical_declaration
      (variable_declarator name: (identifier) @name) @definition.variable)
    (variable_declaration
      (variable_declarator name: (identifier) @name) @definition.variable)
    (export_statement
      [
        (lexical_declaration (variable_declarator name: (identifier) @name) @definition.variable)
        (variable_declaration (variable_declarator name: (identifier) @name) @definition.variable)
      ])
  ])

(call_expression
  function: [
    (identifier) @name
    (member_expression property: [(property_identifier) (private_property_identifier)] @name)
  ]) @reference.call

(new_expression
  constructor: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]) @reference.class

; --- not inherited: node types that only the JavaScript grammar has ---

; Class fields holding functions: `handle = () => {}`.
(field_definition
  property: (property_identifier) @name
  value: [(function_expression) (generator_function) (arrow_function)]) @definition.method

(class_heritage
  [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ] @reference.class)
