; Ruby definitions and references (innersearch tags convention, see parse.py).

(class
  name: [
    (constant) @name
    (scope_resolution name: (constant) @name)
  ]) @definition.class

(module
  name: [
    (constant) @name
    (scope_resolution name: (constant) @name)
  ]) @definition.module

(method
  name: (_) @name) @definition.method

(singleton_method
  name: (_) @name) @definition.method

(assignment
  left: (constant) @name) @definition.constant

(call
  method: (identifier) @name) @reference.call

; A bare identifier statement is usually a call without parentheses (`save`), but it
; could be a local variable; ctags and GitHub's tags make the same guess.
(body_statement
  (identifier) @name @reference.call)

(superclass
  [
    (constant) @name
    (scope_resolution name: (constant) @name)
  ] @reference.class)
