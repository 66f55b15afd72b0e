"""Report windows: the panel (chart + table), its table model and chart, printing."""
