package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TopicMatcherTest {

    @ParameterizedTest(name = "{0} ~ {1} -> {2}")
    @CsvSource(delimiter = '|', textBlock = """
            *                                         | https://example.com/anything              | true
            https://example.com/books/1               | https://example.com/books/1               | true
            https://example.com/books/1               | https://example.com/books/2               | false
            https://example.com/books/{id}            | https://example.com/books/1               | true
            https://example.com/books/{id}            | https://example.com/books/abc-_.~%20x     | true
            https://example.com/books/{id}            | https://example.com/books/1/chapters      | false
            https://example.com/books/{id}            | https://example.com/authors/1             | false
            https://example.com/books/{id}            | https://example.com/books/                | true
            https://example.com/books/{id}.jsonld     | https://example.com/books/7.jsonld        | true
            https://example.com/users/{u}/books/{b}   | https://example.com/users/kev/books/42    | true
            https://example.com/users/{u}/books/{b}   | https://example.com/users/kev/books       | false
            https://example.com{/path*}               | https://example.com/a/b/c                 | true
            https://example.com/{+rest}               | https://example.com/a/b?c=d               | true
            https://example.com/search{?q,lang}       | https://example.com/search?q=x&lang=fr    | true
            https://example.com/search{?q}            | https://example.com/search#x              | false
            https://example.com/{id}                  | https://example.com/a b                   | false
            https://example.com/{id                   | https://example.com/{id                   | true
            https://example.com/{id                   | https://example.com/1                     | false
            https://example.com/{=bad}                | https://example.com/{=bad}                | true
            https://example.com/{}                    | https://example.com/x                     | false
            https://example.com/a.b                   | https://example.com/aXb                   | false
            """)
    void matches(String selector, String topic, boolean expected) {
        assertThat(TopicMatcher.of(selector).matches(topic)).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource({"https://example.com/{id},true", "https://example.com/{id,false", "*,false", "plain,false", "a}b,false"})
    void templatesAreRecognized(String selector, boolean template) {
        assertThat(TopicMatcher.of(selector).isTemplate()).isEqualTo(template);
    }
}
