"""The market-control agency's view across every organization."""
