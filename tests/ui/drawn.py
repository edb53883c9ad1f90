"""What a plot item draws, for the window tests."""


def points_drawn(item) -> int:
    """How many points a plot item draws (0 before its first data)."""
    return 0 if item.xData is None else len(item.xData)
