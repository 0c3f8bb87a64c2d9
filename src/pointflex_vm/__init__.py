"""pointflex-vm: a reference instance emulating a FortiGate-VM's licensing behaviour.

It talks to a pointflex server only through the public licence protocol
(``docs/licence-protocol.md``) and checks every signed reply with :mod:`pointflex_verify`,
exactly as a real product would; it never imports the server package. See
``docs/pointflex-vm.md`` for the commands and output formats.
"""
