"""Programs and their points: balances, accrual, prices, reports, statements, forecasts."""
