"""The channel runtime: typed channel functions, wiring, dispatcher, services and stores."""
