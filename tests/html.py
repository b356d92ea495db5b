"""Reading pages in tests the way a reader's browser would see them."""

from bs4 import BeautifulSoup


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content.decode(), "html.parser")


def text(node) -> str:
    return " ".join(node.get_text(" ").split())


def texts(page: BeautifulSoup, selector: str) -> list[str]:
    return [text(node) for node in page.select(selector)]
