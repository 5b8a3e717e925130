"""Drivers: how each async mode runs tasks, waits and serves websockets."""
