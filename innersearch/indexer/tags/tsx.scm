; inherits: typescript
; TSX is TypeScript plus JSX; JSX elements reference components by name (capitalized;
; lower-case names are HTML elements).

((jsx_opening_element
  name: (identifier) @name) @reference.class
  (#match? @name "^[A-Z]"))

((jsx_self_closing_element
  name: (identifier) @name) @reference.class
  (#match? @name "^[A-Z]"))
