"""Intake from the outside world: notices from users and trusted flaggers, orders from authorities."""
