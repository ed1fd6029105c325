// The load suite: an open-model runner with named scenarios (issue 9 fills it in).
Console.Error.WriteLine("usage: Dmh.Perf <scenario> [options]  (no scenarios yet)");
return 2;
