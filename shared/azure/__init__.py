"""The Azure adapter: Web PubSub trigger payloads, negotiate, Table Storage, Functions wiring."""
