package kalamdb.compat;

import static org.junit.jupiter.api.Assertions.*;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;

class LargeResultTest {

  @Test
  void millionRowsReadFully() throws Exception {
    final long n = 1_000_000L;
    long rows = 0, sumI = 0, sumJ = 0, sumK = 0;
    long t0 = System.nanoTime();
    try (Connection c = Kalam.connect();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT i, i*2 AS j, i%7 AS k FROM range(" + n + ") t(i)")) {
      while (rs.next()) {
        rows++;
        sumI += rs.getLong(1);
        sumJ += rs.getLong("j");
        sumK += rs.getLong("k");
      }
    }
    long ms = (System.nanoTime() - t0) / 1_000_000;
    System.out.println("read " + rows + " rows in " + ms + " ms");
    long expectI = n * (n - 1) / 2;
    long expectK = 0;
    for (long i = 0; i < n; i++) expectK += i % 7;
    assertEquals(n, rows);
    assertEquals(expectI, sumI);
    assertEquals(2 * expectI, sumJ);
    assertEquals(expectK, sumK);
  }
}
