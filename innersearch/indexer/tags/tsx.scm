; inherits: typescript
; TSX is TypeScript plus JSX; JSX elements reference components by name.

(jsx_opening_element
  name: (identifier) @name) @reference.class

(jsx_self_closing_element
  name: (identifier) @name) @reference.class
