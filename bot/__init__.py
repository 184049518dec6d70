"""Loa: runs the Lifelong Learning Week campaign through Telegram and Zalo group chats."""
