"""A hub's registry: connections, groups, users, and fan-out of messages to them."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .connection import Connection
from .messages import Outgoing
from .odata import Predicate


class Hub:
    def __init__(self, name: str) -> None:
        self.name = name
        self.connections: dict[str, Connection] = {}
        self.groups: dict[str, set[str]] = {}
        self.users: dict[str, set[str]] = {}
        # REST "add user to group" also holds for the user's later connections.
        self.user_groups: dict[str, set[str]] = {}

    # -- membership -------------------------------------------------------------------

    def add(self, connection: Connection, groups: Iterable[str]) -> None:
        self.connections[connection.id] = connection
        if connection.user_id is not None:
            self.users.setdefault(connection.user_id, set()).add(connection.id)
            groups = [*groups, *self.user_groups.get(connection.user_id, ())]
        for group in groups:
            self.join(connection, group)

    def remove(self, connection: Connection) -> None:
        self.connections.pop(connection.id, None)
        for group in list(connection.groups):
            self.leave(connection, group)
        if connection.user_id is not None:
            ids = self.users.get(connection.user_id)
            if ids is not None:
                ids.discard(connection.id)
                if not ids:
                    del self.users[connection.user_id]

    def join(self, connection: Connection, group: str) -> None:
        self.groups.setdefault(group, set()).add(connection.id)
        connection.groups.add(group)

    def leave(self, connection: Connection, group: str) -> None:
        connection.groups.discard(group)
        members = self.groups.get(group)
        if members is not None:
            members.discard(connection.id)
            if not members:
                del self.groups[group]

    def user_connections(self, user_id: str) -> list[Connection]:
        return [self.connections[c] for c in self.users.get(user_id, ()) if c in self.connections]

    def group_connections(self, group: str) -> list[Connection]:
        return [self.connections[c] for c in self.groups.get(group, ()) if c in self.connections]

    def add_user_to_group(self, user_id: str, group: str) -> None:
        self.user_groups.setdefault(user_id, set()).add(group)
        for connection in self.user_connections(user_id):
            self.join(connection, group)

    def remove_user_from_group(self, user_id: str, group: str) -> None:
        groups = self.user_groups.get(user_id)
        if groups is not None:
            groups.discard(group)
            if not groups:
                del self.user_groups[user_id]
        for connection in self.user_connections(user_id):
            self.leave(connection, group)

    def remove_user_from_all_groups(self, user_id: str) -> None:
        self.user_groups.pop(user_id, None)
        for connection in self.user_connections(user_id):
            for group in list(connection.groups):
                self.leave(connection, group)

    # -- fan-out ----------------------------------------------------------------------

    def send(
        self,
        targets: Iterable[Connection],
        message: Outgoing,
        *,
        excluded: Iterable[str] = (),
        predicate: Predicate | None = None,
        overflow: Callable[[Connection], None] | None = None,
    ) -> int:
        """Deliver to each target not excluded and matching; returns how many got it."""
        skip = set(excluded)
        count = 0
        for connection in list(targets):
            if connection.id in skip:
                continue
            if predicate is not None and not predicate(
                connection.id, connection.user_id, frozenset(connection.groups)
            ):
                continue
            if not connection.deliver(message) and overflow is not None:
                overflow(connection)
            count += 1
        return count
