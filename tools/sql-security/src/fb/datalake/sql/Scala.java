package fb.datalake.sql;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import scala.Option;
import scala.Tuple2;
import scala.collection.JavaConverters;

/** Reading Scala values (options, sequences, maps, case-class fields) from Java. */
final class Scala {
  private Scala() {}

  /** The value of an Option, or null for None; any other value as it is. */
  static Object value(Object maybeOption) {
    if (maybeOption instanceof Option) {
      Option<?> option = (Option<?>) maybeOption;
      return option.isDefined() ? option.get() : null;
    }
    return maybeOption;
  }

  /** A Scala sequence (or any Scala iterable) as a Java list; null as an empty list. */
  static List<Object> list(Object seq) {
    if (seq == null) {
      return Collections.emptyList();
    }
    if (seq instanceof scala.collection.Iterable) {
      List<Object> out = new ArrayList<>();
      scala.collection.Iterator<?> it = ((scala.collection.Iterable<?>) seq).iterator();
      while (it.hasNext()) {
        out.add(it.next());
      }
      return out;
    }
    if (seq instanceof Object[]) {
      List<Object> out = new ArrayList<>();
      Collections.addAll(out, (Object[]) seq);
      return out;
    }
    return Collections.singletonList(seq);
  }

  @SuppressWarnings("unchecked")
  static <T> List<T> listOf(Object seq) {
    return (List<T>) (List<?>) list(seq);
  }

  static List<String> strings(Object seq) {
    List<String> out = new ArrayList<>();
    for (Object item : list(seq)) {
      out.add(String.valueOf(item));
    }
    return out;
  }

  /** A Scala map of strings as a Java map (insertion order kept); null as an empty map. */
  static Map<String, String> map(Object scalaMap) {
    Map<String, String> out = new LinkedHashMap<>();
    if (scalaMap instanceof scala.collection.Map) {
      for (Object entry : list(scalaMap)) {
        Tuple2<?, ?> pair = (Tuple2<?, ?>) entry;
        out.put(String.valueOf(pair._1()), pair._2() == null ? null : String.valueOf(pair._2()));
      }
    } else if (scalaMap instanceof Map) {
      for (Map.Entry<?, ?> entry : ((Map<?, ?>) scalaMap).entrySet()) {
        out.put(String.valueOf(entry.getKey()), entry.getValue() == null ? null : String.valueOf(entry.getValue()));
      }
    }
    return out;
  }

  /**
   * A field of a Spark plan node, through its no-argument accessor (case-class fields are such
   * methods), with an Option unwrapped; null when the class has no such field. Plan classes of
   * Iceberg's extensions are not on the build's classpath, so they are read this way.
   */
  static Object field(Object node, String name) {
    if (node == null) {
      return null;
    }
    try {
      Method accessor = node.getClass().getMethod(name);
      return value(accessor.invoke(node));
    } catch (NoSuchMethodException e) {
      return null;
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot read " + name + " of " + node.getClass().getName(), e);
    }
  }

  /**
   * A no-argument method called through a public type that declares it: the classes of
   * Iceberg's procedures are package-private, their interfaces are not.
   */
  static Object callPublic(Object target, String name) {
    for (Class<?> type = target.getClass(); type != null; type = type.getSuperclass()) {
      List<Class<?>> candidates = new ArrayList<>();
      candidates.add(type);
      collectInterfaces(type, candidates);
      for (Class<?> candidate : candidates) {
        if (!java.lang.reflect.Modifier.isPublic(candidate.getModifiers())) {
          continue;
        }
        try {
          return candidate.getMethod(name).invoke(target);
        } catch (NoSuchMethodException e) {
          continue;
        } catch (IllegalAccessException | InvocationTargetException e) {
          throw new IllegalStateException("cannot call " + name + " of " + target.getClass().getName(), e);
        }
      }
    }
    throw new IllegalStateException(target.getClass().getName() + " has no public " + name + "()");
  }

  private static void collectInterfaces(Class<?> type, List<Class<?>> out) {
    for (Class<?> implemented : type.getInterfaces()) {
      out.add(implemented);
      collectInterfaces(implemented, out);
    }
  }

  static <T> scala.collection.Seq<T> seq(List<T> items) {
    return JavaConverters.asScalaBuffer(items).toSeq();
  }
}
