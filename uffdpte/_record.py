"""A light immutable record type for the tables and profiles that load on every start-up."""

from __future__ import annotations

from collections import namedtuple


def record(cls: type) -> type:
    """An immutable record with typing.NamedTuple's class syntax (annotated fields, defaults,
    methods, slot-free mixin bases) but without its annotation processing: these tables load
    on every start-up."""
    names = list(cls.__dict__.get("__annotations__", {}))
    defaults = [cls.__dict__[n] for n in names if n in cls.__dict__]
    base = namedtuple(cls.__name__, names, defaults=defaults)
    body = {k: val for k, val in cls.__dict__.items()
            if k not in names and k not in ("__dict__", "__weakref__")}
    body["__slots__"] = ()
    mixins = tuple(b for b in cls.__bases__ if b is not object)
    return type(cls.__name__, (base, *mixins), body)
