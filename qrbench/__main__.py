from qrbench.cli.app import main

main()
