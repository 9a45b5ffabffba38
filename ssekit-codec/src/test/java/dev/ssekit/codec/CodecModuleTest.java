package dev.ssekit.codec;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The codec's promise, read from its compiled module descriptor: it needs nothing beyond {@code
 * java.base}, and it exports exactly the codec and the time seams.
 */
class CodecModuleTest {

    @Test
    void requiresOnlyJavaBaseAndExportsCodecAndTime() throws URISyntaxException {
        Path classes = Path.of(SseParser.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Set<ModuleReference> found = ModuleFinder.of(classes).findAll();
        assertThat(found).hasSize(1);
        ModuleDescriptor descriptor = found.iterator().next().descriptor();

        assertThat(descriptor.name()).isEqualTo("dev.ssekit.codec");
        assertThat(descriptor.requires().stream().map(ModuleDescriptor.Requires::name).collect(Collectors.toSet()))
                .containsExactly("java.base");
        assertThat(descriptor.exports().stream().map(ModuleDescriptor.Exports::source).collect(Collectors.toSet()))
                .containsExactlyInAnyOrder("dev.ssekit.codec", "dev.ssekit.time");
        assertThat(descriptor.packages()).containsExactlyInAnyOrder("dev.ssekit.codec", "dev.ssekit.time");
    }
}
