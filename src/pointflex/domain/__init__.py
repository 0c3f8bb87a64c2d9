"""Pure domain: states, rules, pricing, dates. Imports nothing from the other layers."""
