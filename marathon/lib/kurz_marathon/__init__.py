"""kurz's Marathon tooling: definitions (load, list apps, set the image registry and tag), the
executor stand-in used by the contract harness, and the REST client used by marathon/deploy."""
