"""purecurl's benchmark suite (not part of the test run); see bench/README.md."""
