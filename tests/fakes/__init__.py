"""Fake forges on real sockets, shared by every test."""
