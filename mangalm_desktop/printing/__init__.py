"""What every PDF shares (the embedded fonts): below the services, so orders, reports and
payments print alike without importing each other."""
