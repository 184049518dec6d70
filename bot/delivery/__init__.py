"""The outbox: deliveries materialised per chat, claimed when due, sent through a channel."""
