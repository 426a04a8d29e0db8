"""What listeners do together beyond listening: suggest topics and guests, and vote on them."""
