"""ipywidgets views over the service (importable without a browser, testable with .value/.click)."""
