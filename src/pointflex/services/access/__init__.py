"""Who may act: organisations and accounts, API and portal users, sign-in, sessions."""
