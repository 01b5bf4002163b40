"""Writes of the facilities app: bookings (bookings.py), usage and fees (usage.py), innovation vouchers (vouchers.py)."""
