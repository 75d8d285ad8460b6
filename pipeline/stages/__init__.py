"""One module per stage: options, reading inputs, calling the library, writing outputs."""
