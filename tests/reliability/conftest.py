"""Fixtures of the reliability tests: the module under test (tests/module_fixtures.py)."""

from tests.module_fixtures import mod, pure, pycurl_mod

__all__ = ["mod", "pure", "pycurl_mod"]
