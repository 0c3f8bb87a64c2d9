"""Demo data made through the services, and a simulated history of use."""
