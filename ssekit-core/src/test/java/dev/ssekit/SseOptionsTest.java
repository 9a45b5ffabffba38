package dev.ssekit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class SseOptionsTest {

    @Test
    void defaultsAreStated() {
        assertEquals(Duration.ofSeconds(30), SseOptions.defaults().writeTimeout());
        assertEquals(Duration.ofSeconds(1), SseOptions.defaults().closeGrace());
    }

    @Test
    void buildNamesTheBadSettingAndItsValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SseOptions.builder().writeTimeout(Duration.ZERO).build());
        assertEquals("writeTimeout must be positive: PT0S", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> SseOptions.builder().closeGrace(Duration.ofMillis(-5)).build());
        assertEquals("closeGrace must not be negative: PT-0.005S", e.getMessage());
        assertEquals(Duration.ZERO, SseOptions.builder().closeGrace(Duration.ZERO).build().closeGrace());
    }
}
