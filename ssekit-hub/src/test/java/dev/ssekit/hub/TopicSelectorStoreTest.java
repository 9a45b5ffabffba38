package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.ssekit.TopicSelector;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Selector texts compiled to broadcaster selectors, cached and bounded. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class TopicSelectorStoreTest {

    private final TopicSelectorStore store = new TopicSelectorStore(1_000);

    @Test
    void starIsEveryTopic() {
        assertThat(store.selector("*")).isSameAs(TopicSelector.all());
        assertThat(store.selector("*").exactTopic()).isEmpty();
        assertThat(store.anyMatches(List.of("*"), "https://example.com/anything/at/all")).isTrue();
    }

    @Test
    void plainTextIsAnExactSelector() {
        TopicSelector s = store.selector("https://example.com/books/1");
        assertThat(s.exactTopic()).contains("https://example.com/books/1");
        assertThat(s.matches("https://example.com/books/1")).isTrue();
        assertThat(s.matches("https://example.com/books/2")).isFalse();
        // braces that do not make a template stay literal
        assertThat(store.selector("urn:{not a template").exactTopic()).contains("urn:{not a template");
    }

    @Test
    void aTemplateMatchesWithoutAnExactTopic() {
        TopicSelector s = store.selector("https://example.com/books/{id}");
        assertThat(s.exactTopic()).isEmpty();
        assertThat(s.matches("https://example.com/books/1")).isTrue();
        assertThat(s.matches("https://example.com/books/1/2")).isFalse();
        assertThat(s.matches("https://example.com/authors/1")).isFalse();
        assertThat(store.anyMatches(List.of("https://example.com/books/{id}"), "https://example.com/books/42")).isTrue();
        assertThat(store.anyMatches(List.of("https://example.com/books/{id}"), "https://example.com/authors/42")).isFalse();
    }

    @Test
    void theSameTextGivesTheSameCachedInstance() {
        for (String text : List.of("*", "https://example.com/books/1", "https://example.com/books/{id}", "/a{/b,c}")) {
            TopicSelector first = store.selector(text);
            assertThat(store.selector(text)).as(text).isSameAs(first);
            assertThat(store.selectors(List.of(text, text))).as(text).allSatisfy(s -> assertThat(s).isSameAs(first));
        }
        assertThat(store.size()).isEqualTo(4);
    }

    @Test
    void selectorsKeepOrder() {
        List<TopicSelector> s = store.selectors(List.of("b", "*", "a"));
        assertThat(s).extracting(TopicSelector::exactTopic).containsExactly(java.util.Optional.of("b"), java.util.Optional.empty(),
                java.util.Optional.of("a"));
        assertThat(s.get(1)).isSameAs(TopicSelector.all());
    }

    @Test
    void emptyAndOverLimitTextsAreRefused() {
        assertThatThrownBy(() -> store.selector("")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty");
        String tooLong = "x".repeat(TopicSelectorStore.MAX_LENGTH + 1);
        assertThatThrownBy(() -> store.selector(tooLong)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2048").hasMessageContaining("2049");
        assertThatThrownBy(() -> store.selectors(List.of("ok", tooLong))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("2048");
        assertThatThrownBy(() -> TopicSelectorStore.check(tooLong)).hasMessageContaining("2048");
        String atLimit = "x".repeat(TopicSelectorStore.MAX_LENGTH);
        assertThat(store.selector(atLimit).exactTopic()).contains(atLimit);
        assertThat(store.size()).as("refused texts are not cached: \"ok\" and the one at the limit").isEqualTo(2);
    }

    @Test
    void anyMatchesIgnoresEmptyAndOverLimitSelectors() {
        String tooLong = "x".repeat(TopicSelectorStore.MAX_LENGTH + 1);
        assertThat(store.anyMatches(List.of("", tooLong), "x")).isFalse();
        assertThat(store.anyMatches(List.of("", tooLong, "x"), "x")).isTrue();
        assertThat(store.anyMatches(List.of(tooLong), tooLong)).as("an over-limit selector does not even match itself").isFalse();
        assertThat(store.anyMatches(List.of("*"), tooLong)).as("an over-limit topic matches nothing").isFalse();
        assertThat(store.anyMatches(List.of(), "x")).isFalse();
        assertThat(store.size()).isEqualTo(1); // only "x" was compiled
    }

    @Test
    void capacityIsBounded() {
        TopicSelectorStore small = new TopicSelectorStore(100);
        for (int i = 0; i < 10_000; i++) {
            small.selector(i % 2 == 0 ? "https://example.com/t/" + i : "https://example.com/t/" + i + "/{x}");
            if (i % 1_000 == 999) {
                assertThat(small.size()).isLessThanOrEqualTo(100);
            }
        }
        assertThat(small.size()).isLessThanOrEqualTo(100);
        // an evicted text compiles again, and still right
        assertThat(small.selector("https://example.com/t/0").exactTopic()).contains("https://example.com/t/0");
        assertThat(small.selector("https://example.com/t/1/{x}").matches("https://example.com/t/1/y")).isTrue();
    }

    @Test
    void capacityBelowOneIsRefused() {
        assertThatThrownBy(() -> new TopicSelectorStore(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
