"""The shopper's side beyond the verdict: warranty registrations."""
