package dev.ssekit.client;

import static org.assertj.core.api.Assertions.assertThat;

import dev.ssekit.codec.SseEvent;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ResolvedModule;
import java.net.URI;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The client's promise (issue #16): it needs the codec module and {@code java.net.http}, and not
 * the server ({@code dev.ssekit}, with the broadcaster) nor {@code jdk.httpserver}. Read from the
 * compiled module descriptors, then proven by running the client in a module layer that holds
 * only the client and the codec, with no class path behind it.
 */
@Timeout(value = 30, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ClientModuleBoundaryTest {

    private static final Set<String> SERVER_SIDE = Set.of("dev.ssekit", "jdk.httpserver");

    private final ModuleFinder clientAndCodec = ModuleFinder.of(location(EventSource.class), location(SseEvent.class));
    private ScriptedServer server;

    @BeforeEach
    void setUp() throws Exception {
        server = new ScriptedServer();
    }

    @AfterEach
    void tearDown() {
        server.close();
    }

    private static Path location(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (java.net.URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    private static Set<String> names(Set<ResolvedModule> modules) {
        return modules.stream().map(ResolvedModule::name).collect(Collectors.toSet());
    }

    @Test
    void theClientRequiresTheCodecAndJavaNetHttpOnly() {
        ModuleDescriptor client = clientAndCodec.find("dev.ssekit.client").orElseThrow().descriptor();
        assertThat(client.requires().stream().map(ModuleDescriptor.Requires::name).collect(Collectors.toSet()))
                .containsExactlyInAnyOrder("java.base", "dev.ssekit.codec", "java.net.http");

        // everything the client needs, transitively, from the JDK plus these two modules alone
        Configuration all = Configuration.empty()
                .resolve(ModuleFinder.ofSystem(), clientAndCodec, Set.of("dev.ssekit.client"));
        assertThat(names(all.modules())).contains("dev.ssekit.client", "dev.ssekit.codec", "java.net.http")
                .doesNotContainAnyElementsOf(SERVER_SIDE);
        assertThat(names(all.findModule("dev.ssekit.client").orElseThrow().reads()))
                .doesNotContainAnyElementsOf(SERVER_SIDE);
    }

    @Test
    void theClientReadsAStreamInALayerWithoutTheServer() throws Exception {
        server.stream(ScriptedServer.Response.events("id: 7\nevent: greeting\ndata: hé\ndata: llo\n\n")); // stays open
        Configuration cf = ModuleLayer.boot().configuration()
                .resolve(clientAndCodec, ModuleFinder.of(), Set.of("dev.ssekit.client"));
        assertThat(names(cf.modules())).containsExactlyInAnyOrder("dev.ssekit.client", "dev.ssekit.codec");
        assertThat(names(cf.findModule("dev.ssekit.client").orElseThrow().reads()))
                .contains("dev.ssekit.codec", "java.net.http").doesNotContainAnyElementsOf(SERVER_SIDE);
        // the platform loader as parent: nothing of the class path (where core lies in this test) is visible
        ModuleLayer layer = ModuleLayer.boot().defineModulesWithOneLoader(cf, ClassLoader.getPlatformClassLoader());

        Class<?> eventSource = layer.findLoader("dev.ssekit.client").loadClass("dev.ssekit.client.EventSource");
        assertThat(eventSource).isNotSameAs(EventSource.class);
        assertThat(eventSource.getModule().getLayer()).isSameAs(layer);
        Object builder = eventSource.getMethod("builder", URI.class).invoke(null, server.uri("/sse"));
        Object source = builder.getClass().getMethod("build").invoke(builder);
        try {
            Stream<?> events = (Stream<?>) eventSource.getMethod("events").invoke(source);
            Object event = events.findFirst().orElseThrow();
            assertThat(event.getClass().getModule().getName()).isEqualTo("dev.ssekit.codec");
            assertThat(event.getClass().getModule().getLayer()).isSameAs(layer);
            assertThat(event).hasToString(new SseEvent("7", "greeting", "hé\nllo").toString());
        } finally {
            eventSource.getMethod("close").invoke(source);
        }
        assertThat(layer.modules().stream().map(Module::getName)).doesNotContainAnyElementsOf(SERVER_SIDE);
    }
}
