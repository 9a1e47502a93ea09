"""Operations: metrics, the webhook's health, and what the merchant is told (alerts, paid orders, the day)."""
