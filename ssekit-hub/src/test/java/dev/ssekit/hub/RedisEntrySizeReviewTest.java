package dev.ssekit.hub;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Adversarial review (rev1): what one anonymous subscription puts into Redis in a cluster. The
 * announcements are capped at 32 (ANONYMOUS_BUDGET) but the node's hash entry (Subscriptions.entry,
 * HSET per connection, HVALS'd by every subscriptions API request, 304s included) holds all 100
 * matchers, each up to 4,096 bytes, percent-encoded into its path.
 */
class RedisEntrySizeReviewTest {

    @Test
    void anAnonymousSubscribersClusterEntryIsBoundedLikeItsAnnouncements() throws Exception {
        List<Subscriptions.Subscription> subs = new ArrayList<>();
        for (int i = 0; i < SubscribeMatchers.MAX_MATCHERS; i++) {
            // 4,096 bytes of UTF-8 (MatcherStore.MAX_BYTES): 2,048 'é', 6 characters each once percent-encoded
            String value = String.format("%04d", i) + "\u00e9".repeat(2046);
            subs.add(new Subscriptions.Match(Matcher.exact(value), Optional.empty()));
        }
        Subscriptions.Subscriber s = new Subscriptions.Subscriber("urn:uuid:00000000-0000-0000-0000-000000000000", subs, true);
        int entryBytes = Subscriptions.entry(s).getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        long noticeBytes = Subscriptions.clusterNotices(s, true).stream()
                .mapToLong(n -> n.topic().length() + n.data().getBytes(java.nio.charset.StandardCharsets.UTF_8).length).sum();
        System.out.println("one anonymous connection: entry " + entryBytes + " bytes in the node's hash; "
                + Subscriptions.clusterNotices(s, true).size() + " notices, " + noticeBytes + " bytes, on connect and again on disconnect");
        assertThat(entryBytes).as("bytes one anonymous connection keeps in Redis (the announcements' budget is 32 of 100)")
                .isLessThan(32 * 30_000);
        // since the fix: at most the cluster budget (plus one row), and the notices sent are those of the rows listed
        assertThat(entryBytes).as("entry bytes").isLessThanOrEqualTo(Subscriptions.CLUSTER_ENTRY_BYTES + 64);
        assertThat(noticeBytes).as("bytes of notices XADDed on connect").isLessThanOrEqualTo(Subscriptions.CLUSTER_ENTRY_BYTES);
        assertThat(Subscriptions.clusterNotices(s, true)).as("one notice per row listed")
                .hasSize(((java.util.List<?>) com.fasterxml.jackson.jr.ob.JSON.std.mapFrom(Subscriptions.entry(s)).get("rows")).size());
    }
}
