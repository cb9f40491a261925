from qrbench.cli import main

main()
