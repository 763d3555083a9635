"""How copy reaches the desk: each transport hands raw bytes to `store` (store.py), which keeps
them as a Delivery before anything reads them."""
