// SPDX-License-Identifier: Apache-2.0
package natpmp.service.internal.osgi;

import java.lang.reflect.Proxy;
import java.util.HashMap;
import java.util.Map;

/** Builds {@link NatPmpListener.Config} instances the way SCR does: annotation defaults plus given keys. */
final class Configs {
    private Configs() {
    }

    /** @param keyValues alternating method names (underscored) and values */
    static NatPmpListener.Config config(Object... keyValues) {
        Map<String, Object> values = new HashMap<>();
        values.put("lan", new String[] {"127.0.0.1"});
        values.put("external_interface", "wan0");
        for (int i = 0; i < keyValues.length; i += 2) {
            values.put((String) keyValues[i], keyValues[i + 1]);
        }
        return (NatPmpListener.Config) Proxy.newProxyInstance(Configs.class.getClassLoader(),
                new Class<?>[] {NatPmpListener.Config.class}, (proxy, method, args) -> {
                    if (values.containsKey(method.getName())) {
                        return values.get(method.getName());
                    }
                    if (method.getDefaultValue() != null) {
                        return method.getDefaultValue();
                    }
                    if (method.getName().equals("annotationType")) {
                        return NatPmpListener.Config.class;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
