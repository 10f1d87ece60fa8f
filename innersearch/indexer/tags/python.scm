; Python definitions and references (innersearch tags convention, see parse.py).
; Functions directly inside a class body become methods in parse.py, not here, so that
; decorated and undecorated methods share one pattern.

(class_definition
  name: (identifier) @name) @definition.class

(function_definition
  name: (identifier) @name) @definition.function

; `name = lambda ...:` is a function for outline purposes (ctags agrees).
(assignment
  left: (identifier) @name
  right: (lambda)) @definition.function

; UPPER_CASE assignments at module or class level are constants by convention.
(module
  (assignment
    left: (identifier) @name) @definition.constant
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

(class_definition
  body: (block
    (assignment
      left: (identifier) @name) @definition.constant)
  (#match? @name "^_*[A-Z][A-Z0-9_]*$"))

(call
  function: [
    (identifier) @name
    (attribute attribute: (identifier) @name)
  ]) @reference.call

(class_definition
  superclasses: (argument_list
    [
      (identifier) @name
      (attribute attribute: (identifier) @name)
    ] @reference.class))
