"""Alerts on suspicious scans, their delivery, and shoppers' reports."""
