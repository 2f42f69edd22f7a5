"""The standfirst between a page's headline and its body, and the headlines it prints."""

from __future__ import annotations

import lxml.html
import pytest

from feedd.extract.page_header import displayed_headlines, find_standfirst, same_words

HEADLINE = "Council approves the harbour budget after a long debate"
STANDFIRST = "The vote was close, and the opposition says the tram line will cost far more than planned."
BODY = [
    "The regional parliament approved the budget on Thursday after an eleven-hour debate.",
    "Rural schools get more money under the plan, the minister said.",
]
BODY_HTML = "".join(f"<p>{paragraph}</p>" for paragraph in BODY)


def _standfirst(header: str, *, after: str = BODY_HTML, body: list[str] = BODY) -> str | None:
    """The standfirst of a page printing `header` (the <h1> and what follows it), then `after`."""
    tree = lxml.html.fromstring(f"<html><body><nav><a href='/'>Home</a></nav>{header}{after}</body></html>")
    return find_standfirst(tree, body, [HEADLINE], [HEADLINE])


@pytest.mark.parametrize(
    "element",
    [
        f'<p class="article-lead">{STANDFIRST}</p>',
        f'<div class="intro">{STANDFIRST}</div>',
        f'<h2 class="standfirst">{STANDFIRST}</h2>',
        f'<p class="c-dek">{STANDFIRST}</p>',
        f'<div itemprop="description">{STANDFIRST}</div>',
        f'<span data-testid="article-summary">{STANDFIRST}</span>',
        # Inside a Drupal article "promoted" to the front page.
        '<article class="node node--promoted">'
        f'<div class="wrapper-summary"><p>{STANDFIRST}</p></div></article>',
        f'<p data-manual="teaserText" class="css-1485smx">{STANDFIRST}</p>',
        f'<p id="vorspann">{STANDFIRST}</p>',
        f'<div class="art_synopsis"><div class="tCKCr">{STANDFIRST}</div></div>',
        # camelCase class names are split into words: "Content Header Dek".
        f'<div class="ContentHeaderDek">{STANDFIRST}</div>',
    ],
)
def test_a_standfirst_marked_by_class_id_or_itemprop(element: str) -> None:
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") == STANDFIRST


def test_the_standfirst_text_has_its_whitespace_collapsed() -> None:
    element = (
        '<p class="lead">  The vote was close,\n and the <em>opposition</em> says the tram line '
        "will\tcost far more than planned.</p>"
    )
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") == STANDFIRST


@pytest.mark.parametrize(
    "element",
    [
        f"<p><strong>{STANDFIRST}</strong></p>",
        f"<p><b>{STANDFIRST}</b></p>",
        f'<p class="text-lg font-semibold">{STANDFIRST}</p>',
        f'<p class="fw-bold">{STANDFIRST}</p>',
    ],
)
def test_an_opening_paragraph_set_in_bold_is_the_standfirst(element: str) -> None:
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") == STANDFIRST


def test_a_paragraph_only_partly_bold_is_not() -> None:
    element = (
        "<p><strong>The vote was close,</strong> and the opposition says the tram line will cost far "
        "more than planned.</p>"
    )
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") is None


def test_an_unmarked_paragraph_is_not_a_standfirst() -> None:
    assert _standfirst(f"<h1>{HEADLINE}</h1><p>{STANDFIRST}</p>") is None


@pytest.mark.parametrize(
    "header",
    [
        # Obfuscated classes: the story's <header> still says which sentence opens the story.
        f'<article><header class="Haw"><h1>{HEADLINE}</h1><div><p class="Ha6">{STANDFIRST}</p></div>'
        f"</header>{BODY_HTML}</article>",
        # The site's name in the <h1>, the story's headline an <h2> in the article's header.
        f"<h1>Daily Courier</h1><main><article><header><h2>{HEADLINE}</h2><div type='lead'>"
        f"<p>{STANDFIRST}</p></div></header>{BODY_HTML}</article></main>",
    ],
)
def test_the_sentence_opening_the_storys_header_is_the_standfirst(header: str) -> None:
    assert _standfirst(header, after="") == STANDFIRST


def test_a_marked_standfirst_wins_over_the_headers_opening_sentence() -> None:
    header = (
        f"<article><header><h1>{HEADLINE}</h1><p>Our correspondents report from the town hall.</p>"
        f'</header><p class="standfirst">{STANDFIRST}</p>{BODY_HTML}</article>'
    )
    assert _standfirst(header, after="") == STANDFIRST


@pytest.mark.parametrize(
    "page",
    [
        # The site's masthead, outside <article> and <main>: its paragraph is the site's motto.
        f"<header><h1>{HEADLINE}</h1><p>{STANDFIRST}</p></header>",
        # A section's header in <main>, or a related story's card: a headline that is not the page's.
        f"<main><header><h1>Harbour news</h1><p>{STANDFIRST}</p></header></main>",
        f"<main><h1>{HEADLINE}</h1><article><header><h2>Mayor resigns over the harbour deal</h2>"
        f"<p>{STANDFIRST}</p></header></article></main>",
        # Above the headline: a kicker line.
        f"<h1>Daily Courier</h1><main><article><header><p>{STANDFIRST}</p><h2>{HEADLINE}</h2>"
        "</header></article></main>",
        # Not the header's opening paragraph.
        f"<article><header><h1>{HEADLINE}</h1><p>Four minutes to read, one to share.</p>"
        f"<p>{STANDFIRST}</p></header></article>",
        # Not a sentence: a byline, a reading time.
        f"<article><header><h1>{HEADLINE}</h1>"
        "<p>Posted by Jane Doe and John Roe on 3 March 2025, 14:00</p></header></article>",
        f"<article><header><h1>{HEADLINE}</h1>"
        "<p>Listen to this article · 4 min · Read by an automated voice</p></header></article>",
        # In a box named for something else.
        f"<article><header><h1>{HEADLINE}</h1><div class='entry-meta'><p>Posted on March 3, 2025 by "
        "Jane Doe in Politics, Local news.</p></div></header></article>",
        f"<article><header><h1>{HEADLINE}</h1><div class='authorCard'><p>Jane Doe has covered the "
        "harbour and its budgets for twenty years.</p></div></header></article>",
        f"<article><header><h1>{HEADLINE}</h1><p data-testid='byline'>Jane Doe and John Roe report "
        "from the council chamber.</p></header></article>",
        f"<article><header><h1>{HEADLINE}</h1><div class='share'><p>Share this story with the people "
        "who care about the harbour.</p></div></header></article>",
        f"<article><header><h1>{HEADLINE}</h1><p class='image-caption'>{STANDFIRST}</p></header></article>",
        f"<article><header><h1>{HEADLINE}</h1><p><a href='/other'>{STANDFIRST}</a></p></header></article>",
    ],
)
def test_other_paragraphs_of_headers_are_not_the_standfirst(page: str) -> None:
    assert _standfirst(f"<h1>Daily Courier</h1>{page}") is None


@pytest.mark.parametrize(
    "element",
    [
        f"<figure><figcaption class='intro'>{STANDFIRST}</figcaption></figure>",
        f'<p class="image-caption">{STANDFIRST}</p>',
        f'<p class="lead-caption">{STANDFIRST}</p>',
        f'<div class="photo-credit intro">{STANDFIRST}</div>',
        f'<div class="image-text"><p class="lead">{STANDFIRST}</p></div>',
        f'<div class="caption"><p><strong>{STANDFIRST}</strong></p></div>',
    ],
)
def test_captions_are_not_the_standfirst(element: str) -> None:
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") is None


@pytest.mark.parametrize(
    "element",
    [
        '<p class="lead">By Jane Doe, harbour correspondent, in the city of Example</p>',
        "<p><strong>Von Hans Muster, Korrespondent in der Stadt Beispiel am See</strong></p>",
        f'<p class="article__byline intro">{STANDFIRST}</p>',
        f'<div class="author-intro">{STANDFIRST}</div>',
    ],
)
def test_bylines_are_not_the_standfirst(element: str) -> None:
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") is None


@pytest.mark.parametrize(
    "element",
    [
        f'<aside><p class="lead">{STANDFIRST}</p></aside>',
        f'<div class="related-stories"><p class="lead">{STANDFIRST}</p></div>',
        f'<ul><li><p class="teaser">{STANDFIRST}</p></li></ul>',
        f'<p class="lead newsletter-signup">{STANDFIRST}</p>',
        f'<p class="lead">{STANDFIRST}<img src="tram.jpg"></p>',
        '<p class="lead"><a href="/x">Read also: the minister resigns after the harbour budget row</a></p>',
    ],
)
def test_boxes_of_other_stories_media_and_links_are_not_the_standfirst(element: str) -> None:
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") is None


def test_a_class_that_merely_mentions_an_image_does_not_hide_the_standfirst() -> None:
    assert (
        _standfirst(f'<h1>{HEADLINE}</h1><div class="has-image"><p class="lead">{STANDFIRST}</p></div>')
        == STANDFIRST
    )


@pytest.mark.parametrize(
    "element",
    [
        # Utility classes that only sound like it: a line height, an ad slot.
        f'<div class="text-lg leading-12">{STANDFIRST}</div>',
        f'<div class="leaderboard">{STANDFIRST}</div>',
        # Text the reader does not see until asked for.
        f'<div role="tooltip" class="lead">{STANDFIRST}</div>',
        f'<div aria-hidden="true"><p class="intro">{STANDFIRST}</p></div>',
        f'<div class="hidden z-50 flex"><p class="font-medium">{STANDFIRST}</p></div>',
        # A kicker or label over the headline, however long; a short subhead between paragraphs.
        '<span class="teaser__kicker">Exclusive interview with the minister</span>',
        '<div class="article-eyebrow">Politics and the harbour budget</div>',
        '<h2 class="article-subhead">What the opposition wants now</h2>',
        # A promotion is not a standfirst; a sign-in dialog hidden until asked for neither.
        f'<div class="promotion-teaser">{STANDFIRST}</div>',
        f'<div hidden class="login-dialog"><p class="lead">{STANDFIRST}</p></div>',
        # A byline box's name and dates; a popover's notice; a dialog.
        '<div class="articleHeader--subhead">JANE DOENov. 20, 2019Updated: Nov. 20, 2019 1:35 a.m.</div>',
        f'<k-popover><p id="sharing-service-description">{STANDFIRST}</p></k-popover>',
        f'<div class="share-modal"><p class="intro">{STANDFIRST}</p></div>',
        f'<dialog><p class="lead">{STANDFIRST}</p></dialog>',
        # The date and place line under the headline.
        '<div class="post-subheader__meta meta">21 October 2025 • Duqm, Oman, on the coast</div>',
        # A photo gallery's own description.
        f'<div class="lightbox-gallery__description">{STANDFIRST}</div>',
    ],
)
def test_look_alikes_hidden_text_and_gallery_descriptions_are_not_the_standfirst(element: str) -> None:
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") is None


def test_a_short_marked_standfirst_in_a_box_with_a_caption_is_given_alone() -> None:
    short = "A big shift, with some room left"
    caption = "<div class='image-description'><p>The harbour at dawn. Photo: agency</p></div>"
    element = f"<div class='article-intro'>{caption}<p class='intro-text'>{short}</p></div>"
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") == short


def test_an_intro_box_with_a_caption_gives_the_standfirst_inside_it() -> None:
    caption = "<div class='image-description'><p>The harbour at dawn. Photo: agency</p></div>"
    element = f"<div class='article-intro'>{caption}<p class='intro-text'>{STANDFIRST}</p></div>"
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") == STANDFIRST


@pytest.mark.parametrize(
    "element",
    [
        f"<div class='teaser'><span class='teaser__kicker'>Exclusive</span> <p>{STANDFIRST}</p></div>",
        f"<div class='article-lead'><strong class='lead-label'>In short:</strong> {STANDFIRST}</div>",
    ],
)
def test_a_marked_kicker_inside_the_standfirst_box_does_not_hide_it(element: str) -> None:
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") == STANDFIRST


def test_leaving_a_label_out_keeps_comments_tails_and_links() -> None:
    element = (
        "<p class='article-lead'><span class='article-kicker'>Exclusive</span> The council "
        "<a class='related-link' href='/r'>report</a> says the vote was close <!----> after a long night, "
        "and the tram will cost more.</p>"
    )
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") == (
        "The council report says the vote was close after a long night, and the tram will cost more."
    )


def test_a_box_of_several_marked_subtitles_is_the_standfirst_whole() -> None:
    parts = [
        "The vote was close after eleven hours of debate.",
        "The opposition says the tram will cost more.",
    ]
    element = (
        "<div class='subtitles'>" + "\n".join(f"<h2 class='subtitle'>{p}</h2>" for p in parts) + "</div>"
    )
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") == " ".join(parts)


def test_a_standfirst_mentioning_a_publication_date_is_still_one() -> None:
    text = (
        "The audit office's report, published on 3 March, shows the tram line will cost twice the "
        "budget the council approved after a long debate last week."
    )
    assert _standfirst(f'<h1>{HEADLINE}</h1><p class="lead">{text}</p>') == text


def test_a_short_standfirst_counts_where_the_markup_names_it() -> None:
    assert _standfirst(f'<h1>{HEADLINE}</h1><p class="strapline">A big shift, with some room left</p>') == (
        "A big shift, with some room left"
    )
    assert _standfirst(f"<h1>{HEADLINE}</h1><p><strong>A big shift, with some room left</strong></p>") is None


def test_a_data_attribute_holding_data_rather_than_a_name_is_no_mark() -> None:
    blob = '{"section": "news", "slot": "lead", "ids": [' + ", ".join(str(n) for n in range(12)) + "]}"
    element = f"<p data-tracking='{blob}'>{STANDFIRST}</p>"
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") is None


def test_a_standfirst_in_reacts_streamed_hidden_block_is_found() -> None:
    # React 18 streams server-rendered parts into <div hidden id="S:1"> and moves them into place.
    element = f'<div hidden id="S:1a"><p class="article-lead">{STANDFIRST}</p></div>'
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") == STANDFIRST


def test_a_page_with_a_modal_state_class_still_has_its_standfirst() -> None:
    element = f'<div class="article has-modal"><p class="lead">{STANDFIRST}</p></div>'
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") == STANDFIRST
    # Bootstrap marks the page while a dialog is open.
    tree = lxml.html.fromstring(
        f'<html><body class="modal-open"><h1>{HEADLINE}</h1><p class="lead">{STANDFIRST}</p></body></html>'
    )
    assert find_standfirst(tree, BODY, [HEADLINE]) == STANDFIRST


def test_a_line_that_says_updated_but_no_date_may_be_a_standfirst() -> None:
    text = "Updated guidance: five things parents need to know before the schools reopen"
    assert _standfirst(f'<h1>{HEADLINE}</h1><p class="lead">{text}</p>') == text


def test_a_standfirst_hidden_only_on_small_screens_is_found() -> None:
    element = f'<div class="hidden md:block"><p class="lead">{STANDFIRST}</p></div>'
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") == STANDFIRST


def test_a_teaser_repeating_another_title_the_page_declares_is_not_the_standfirst() -> None:
    # The <h1> says one thing, og:title another, printed again in a marked "teaser" heading.
    social_title = "Harbour budget passes: trams first, schools second, roads last"
    page = f'<h1>{HEADLINE}</h1><h2 class="teaser-title">{social_title}</h2><p class="lead">{STANDFIRST}</p>'
    tree = lxml.html.fromstring(f"<html><body>{page}{BODY_HTML}</body></html>")
    assert find_standfirst(tree, BODY, [HEADLINE]) == social_title
    assert find_standfirst(tree, BODY, [HEADLINE, social_title]) == STANDFIRST


def test_the_search_ends_at_any_later_body_paragraph() -> None:
    # The extracted second paragraph differs from the page's (a stripped inline link); the third is
    # exact, and after the story a paywall's notice is set in bold.
    body = [*BODY, "The tram line opens in 2027."]
    page_paragraphs = (
        f"<p>{BODY[0]}</p><p>Rural schools get <a href='/m'>more</a> money, x.</p><p>{body[2]}</p>"
    )
    notice = "<p><strong>You have 57% of this article left to read. The rest is for subscribers.</strong></p>"
    assert _standfirst(f"<h1>{HEADLINE}</h1>", after=page_paragraphs + notice, body=body) is None


def test_a_bold_link_to_another_story_is_not_the_standfirst() -> None:
    element = (
        '<p><strong><a href="/minister-resigns">Read also: the minister resigns after the harbour budget '
        "row in parliament</a></strong></p>"
    )
    assert _standfirst(f"<h1>{HEADLINE}</h1>{element}") is None


@pytest.mark.parametrize(
    "text",
    [
        "Short lead.",  # under 40 characters
        "word " * 130,  # over 600
        "Council approves the harbour budget after long debate",  # restates the headline
    ],
)
def test_texts_of_the_wrong_length_or_the_headline_again_are_not_the_standfirst(text: str) -> None:
    assert _standfirst(f'<h1>{HEADLINE}</h1><p class="lead">{text}</p>') is None


def test_the_standfirst_must_follow_the_h1() -> None:
    assert _standfirst(f'<p class="lead">{STANDFIRST}</p><h1>{HEADLINE}</h1>') is None
    assert _standfirst(f'<h2>{HEADLINE}</h2><p class="lead">{STANDFIRST}</p>') is None


def test_the_search_ends_at_the_bodys_second_paragraph() -> None:
    after_first = f'<p>{BODY[0]}</p><p class="intro">{STANDFIRST}</p><p>{BODY[1]}</p>'
    assert _standfirst(f"<h1>{HEADLINE}</h1>", after=after_first) == STANDFIRST
    after_second = f'{BODY_HTML}<p class="intro">{STANDFIRST}</p>'
    assert _standfirst(f"<h1>{HEADLINE}</h1>", after=after_second) is None


def test_a_standfirst_the_body_also_opens_with_is_still_found() -> None:
    # trafilatura often reads the standfirst as the body's first paragraph.
    body = [STANDFIRST, *BODY]
    after = f'<p class="lead">{STANDFIRST}</p>{BODY_HTML}'
    assert _standfirst(f"<h1>{HEADLINE}</h1>", after=after, body=body) == STANDFIRST


def test_the_search_gives_up_far_past_the_headline() -> None:
    near = "<span></span>" * 398
    far = "<span></span>" * 401
    assert _standfirst(f'<h1>{HEADLINE}</h1>{near}<p class="lead">{STANDFIRST}</p>') == STANDFIRST
    assert _standfirst(f'<h1>{HEADLINE}</h1>{far}<p class="lead">{STANDFIRST}</p>') is None


def test_displayed_headlines_are_the_first_five_non_empty_h1_texts() -> None:
    h1s = "<h1> The <em>printed</em>\n headline </h1><h1> </h1>" + "".join(
        f"<h1>Teaser {n}</h1>" for n in range(6)
    )
    tree = lxml.html.fromstring(f"<html><body>{h1s}</body></html>")
    assert displayed_headlines(tree) == [
        "The printed headline",
        "Teaser 0",
        "Teaser 1",
        "Teaser 2",
        "Teaser 3",
    ]
    assert displayed_headlines(lxml.html.fromstring("<html><body><h2>x</h2></body></html>")) == []


def test_same_words_compares_word_sets_case_blind() -> None:
    # {harbour, budget, approved} of {the, harbour, budget, is, approved}: 3/5 = 0.6.
    assert same_words("The harbour budget is approved", "Harbour budget APPROVED")
    assert not same_words("a b c d e", "a b c x y")  # 3/7
    assert same_words("a b c d e", "a b c x y", threshold=0.4)
    assert not same_words("", "anything") and not same_words("...", "...")
