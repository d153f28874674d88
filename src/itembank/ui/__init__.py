"""The ipywidgets views of the notebooks and Voila apps (one module per app, shared pieces in
widgets): they call the Bank, never storage, and are tested through .value and .click."""
