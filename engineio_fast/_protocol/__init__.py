"""Sans-IO Engine.IO protocol: decisions over plain values, no sockets, no clock."""
