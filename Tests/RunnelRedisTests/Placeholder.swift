// Tests for this target live beside this file; it keeps the target non-empty without the trait.
