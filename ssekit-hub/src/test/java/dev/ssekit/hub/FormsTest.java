package dev.ssekit.hub;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Strict form decoding: the ASCII fast path and the UTF-8 path give what a strict decoder gives. */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class FormsTest {

    private static Map<String, List<String>> decode(String form) {
        return Forms.decode(form.getBytes(ISO_8859_1), 100);
    }

    @Test
    void asciiFieldsDecodePlusAndPercentEscapes() {
        Map<String, List<String>> form = decode("topic=https%3A%2F%2Fexample.com%2Fa&data=hello+world%21&topic=b&private&id=");
        assertThat(form).containsExactly(Map.entry("topic", List.of("https://example.com/a", "b")),
                Map.entry("data", List.of("hello world!")), Map.entry("private", List.of("")), Map.entry("id", List.of("")));
        assertThat(decode("")).isEmpty();
        assertThat(decode("&&a=1&&")).containsExactly(Map.entry("a", List.of("1")));
    }

    @Test
    void utf8FromEscapesAndFromRawBytes() {
        assertThat(decode("data=%C3%A9t%C3%A9+%E2%82%AC+%F0%9F%98%80").get("data")).containsExactly("été € 😀");
        byte[] raw = "data=été".getBytes(UTF_8); // raw UTF-8 bytes in the body, not escaped
        assertThat(Forms.decode(raw, 10).get("data")).containsExactly("été");
        assertThat(decode("caf%C3%A9=1")).containsOnlyKeys("café");
        // every ASCII byte, escaped, comes back as itself
        StringBuilder escaped = new StringBuilder("data=");
        StringBuilder expected = new StringBuilder();
        for (int c = 0; c < 0x80; c++) {
            escaped.append(String.format("%%%02X", c));
            expected.append((char) c);
        }
        assertThat(decode(escaped.toString()).get("data")).containsExactly(expected.toString());
    }

    @Test
    void bytesThatAreNotUtf8AreRefusedEscapedOrRaw() {
        for (String bad : List.of("data=%FF", "data=%C3", "data=%C3%28", "data=a%80b", "data=%ED%A0%80", "%FF=1")) {
            assertThatThrownBy(() -> decode(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("the form is not UTF-8");
        }
        byte[] raw = {'d', 'a', 't', 'a', '=', (byte) 0xC3};
        assertThatThrownBy(() -> Forms.decode(raw, 10)).hasMessage("the form is not UTF-8");
    }

    @Test
    void malformedEscapesAndTooManyFieldsAreRefused() {
        for (String bad : List.of("data=%", "data=%4", "data=%G1", "data=%1G", "da%ta=1")) {
            assertThatThrownBy(() -> decode(bad)).as(bad).hasMessage("malformed percent-encoding in the form");
        }
        assertThatThrownBy(() -> Forms.decode("a=1&b=2&c=3".getBytes(ISO_8859_1), 2)).hasMessage("more than 2 form fields");
    }

    @Test
    void aPathSegmentKeepsItsPlus() {
        assertThat(Forms.pathSegment("a+b%20c")).isEqualTo("a+b c");
        assertThat(Forms.pathSegment("%C3%A9")).isEqualTo("é");
        assertThatThrownBy(() -> Forms.pathSegment("%FF")).hasMessage("a path segment is not UTF-8");
    }
}
